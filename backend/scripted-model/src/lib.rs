//! A scripted model server that speaks the real wire formats, for tests and demos.
