"""``python -m services.gateway``: serve the gateway from the config file."""

from services.common import config
from services.gateway.app import serve

if __name__ == "__main__":
    serve(config.load())
