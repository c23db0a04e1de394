"""The admin API's JSON: requests read into typed commands, domain objects shaped into answers."""
