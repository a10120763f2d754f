//! Every custom LSP method Tandem speaks, with its params and result types.
