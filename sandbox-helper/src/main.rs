//! The standalone `tandem-sandbox` binary: everything lives in the library's `run_main`.
fn main() {
    tandem_sandbox::run_main()
}
