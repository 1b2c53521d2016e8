//! (being written) The language server.
