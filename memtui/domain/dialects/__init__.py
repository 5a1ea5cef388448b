"""The rules of the other seed systems that `memtui serve` speaks (its server dialects),
as plain functions: no HTTP here, so they are tested on their own and shared by every
front end that needs them."""
