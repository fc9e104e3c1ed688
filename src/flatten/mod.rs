//! Flattening: stored raw responses → polars DataFrames with the fixed tables of design §4.
//!
//! Owns the output tables' schemas and the rendering of every control type; reads decoded
//! responses, never calls the network, and writes no file.
