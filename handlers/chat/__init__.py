"""Chat: what people type to the app (its DM, the assistant panel, @mentions), understood and
answered with the same screens and buttons as ``/billing``."""
