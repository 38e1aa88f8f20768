"""Gradio chat over the index (stub; the chat UI lands with its own issue)."""
