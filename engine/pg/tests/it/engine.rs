//! The daemon's engine on PostgreSQL (filled in below).
