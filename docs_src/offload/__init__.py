"""Examples of the offloading page: threads, processes, and their errors."""
