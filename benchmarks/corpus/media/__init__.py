"""A media/integrations service: files, subprocesses, HTTP, SMTP and vendored SDK clients."""
