//! (being written) Runs the TextMate grammar tests with a real grammar engine.
