"""Persistence with peewee: opening databases, models, migrations, transactions."""
