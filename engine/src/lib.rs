//! relance-engine: the Relance dunning engine.
