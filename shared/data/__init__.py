"""The desk's data: policy versions and other things another desk would replace with its own."""
