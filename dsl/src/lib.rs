//! relance-dsl: the Relance scenario language.
