"""Pure domain rules of Most: the partner-vetting method as functions and constants, no I/O."""
