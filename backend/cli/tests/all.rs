//! End-to-end tests of the real `tandem` binary against the scripted model server.

mod suite;
