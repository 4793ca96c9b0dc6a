"""The REST API ``/api/v1``: bearer tokens per workspace, the same use cases as the chat, problem+json errors.

:func:`adapters.web.api.routes.add_api` plugs every router into the one web app.
"""
