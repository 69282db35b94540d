"""Time: the injectable clock (system or simulated, shared through the database) and the working-day
calendar.
"""
