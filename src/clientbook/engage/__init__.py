"""Acting on what is known: consent, segment exports and contact lists, channels."""
