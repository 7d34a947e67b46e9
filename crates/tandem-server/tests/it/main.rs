//! Tandem's server over real HTTP: a server bound to 127.0.0.1:0 per test, real SQLite,
//! real devices logging in and pushing and pulling.

mod access;
mod harness;
mod requests;
mod sync;
