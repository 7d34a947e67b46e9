//! Tandem's server over real HTTP: a server bound to 127.0.0.1:0 per test, real devices
//! logging in, pushing and pulling. The tests written with `both_backends!` are the
//! conformance suite of the store backends: each runs twice, on a real SQLite file and on
//! a real PostgreSQL (a throw-away cluster this binary starts, see `pg_cluster`).

#[macro_use]
mod harness;

mod access;
mod backup;
mod binary;
mod consent;
mod disk_full;
mod duplicates;
mod epoch;
mod instances;
mod logs;
mod metrics;
mod migrations;
mod openapi;
mod pg_cluster;
mod privacy;
mod reports;
mod requests;
mod restore;
mod sites;
mod sync;
mod tls;
mod unavailable;
mod users;
