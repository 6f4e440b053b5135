"""An incident-management API in the style of Netflix Dispatch: ``request.state.db``, permission
classes, class-based views, background notifications."""
