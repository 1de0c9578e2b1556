"""The application layer: configuration, logging and the wiring of store, handlers and projections."""
