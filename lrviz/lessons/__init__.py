"""Guided lessons: small models that really learn, with what a UI needs to tell the story."""
