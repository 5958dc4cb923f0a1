"""What the business learns: needs clusters, channel and style preference, web behaviour."""
