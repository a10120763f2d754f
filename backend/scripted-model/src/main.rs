//! The scripted model server binary (work in progress).

fn main() {}
