"""flows/toy"""
