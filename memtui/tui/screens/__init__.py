"""Modal screens: confirmations, prompts, forms, detail and help."""
