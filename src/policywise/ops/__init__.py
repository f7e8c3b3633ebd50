"""Operational building blocks: resilience primitives shared by the serving layers."""
