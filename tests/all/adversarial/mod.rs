//! Attacks on a running node, each performed the way an outside tester did it.

mod http;
