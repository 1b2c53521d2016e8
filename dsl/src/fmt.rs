//! (being written) The canonical formatter.
