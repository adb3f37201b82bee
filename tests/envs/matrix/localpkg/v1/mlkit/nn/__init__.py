"""Neural-network layers (mlkit 1.0.0). v2 moves layers to mlkit.layers and drops mlkit.nn."""
