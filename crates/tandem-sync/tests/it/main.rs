//! Integration tests of the sync engine: real SQLCipher stores in temporary directories
//! against a real tandem-server over HTTP on 127.0.0.1 (one server per test binary, a fresh
//! team per test).

mod convergence;
mod device;
mod duplicates;
mod engine;
mod erasure;
mod faults;
mod restore;
mod resumption;
mod review;
mod server;
mod upgrade;
