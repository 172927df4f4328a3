"""Feed adapters: each turns the bytes of one feed format into Papers."""
