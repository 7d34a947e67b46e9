//! The initial sync of a new laptop from a team of 100,000 clients and 300,000 contacts,
//! end to end over loopback HTTP, against a raw transfer of the same bytes (see `sync`).

use tandem_benches::{measure_initial_sync, size};

fn main() {
    measure_initial_sync(size(100_000, 30), size(300_000, 90), 1);
}
