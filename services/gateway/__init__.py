"""The HTTP/JSON gateway (FastAPI) over the services' gRPC APIs."""
