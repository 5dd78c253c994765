"""sumu-presence: the connections table's DynamoDB stream -> ONLINE / OFFLINE presence events."""

__version__ = "0.2.0"
