"""The review page: a server-rendered queue and request pages, signed in by one-time links from the thread."""
