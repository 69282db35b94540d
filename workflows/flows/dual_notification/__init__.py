"""flows/dual_notification"""
