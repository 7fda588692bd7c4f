//! Scenarios: see the spec section named in each test.
