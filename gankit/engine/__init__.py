"""Trainer loop, EMA, checkpoints and run folders."""
