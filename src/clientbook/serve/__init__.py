"""The serving layers: HTTP API, web application and command line. Nothing imports them."""
