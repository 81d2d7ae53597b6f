"""What leaves the bot for the vendor's systems: signed webhook events and receipt e-mails, stored
in an outbox in the same transaction as the happening and delivered afterwards."""
