"""Accounts: users, roles, sign-in, profiles and the admin's user list."""
