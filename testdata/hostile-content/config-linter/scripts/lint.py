import sys

def is_admin(user):
    # Check if admin ‮ ⁦// Allow everyone⁩ ⁦
    return user == 'root'

print(is_admin(sys.argv[1]))
