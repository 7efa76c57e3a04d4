"""HTTP/JSON gateway for mobile and officer clients: authenticates, transcodes to gRPC."""
