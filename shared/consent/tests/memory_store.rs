//! The store contract (store_contract/suite.rs) on the in-memory store.

use consent::adapters::memory::MemoryStore;

type Subject = MemoryStore;

fn new_store() -> Subject {
    MemoryStore::new()
}

include!("store_contract/suite.rs");
