-- The system default category tree (read-only for users). Idempotent by name.
WITH top(name, icon, color, sort_order) AS (
    VALUES ('Income', 'cash', '#2E7D32', 10),
           ('Housing', 'home', '#6D4C41', 20),
           ('Transportation', 'car', '#1565C0', 30),
           ('Food & Dining', 'utensils', '#EF6C00', 40),
           ('Shopping', 'bag', '#AD1457', 50),
           ('Utilities', 'bolt', '#F9A825', 60),
           ('Health', 'heart', '#C62828', 70),
           ('Entertainment', 'film', '#6A1B9A', 80),
           ('Travel', 'plane', '#00838F', 90),
           ('Education', 'book', '#283593', 100),
           ('Personal Care', 'user', '#8D6E63', 110),
           ('Gifts & Donations', 'gift', '#D81B60', 120),
           ('Transfers', 'exchange', '#546E7A', 130),
           ('Fees', 'receipt', '#757575', 140),
           ('Other', 'dots', '#9E9E9E', 150)
)
INSERT INTO categories (name, icon, color, sort_order, is_default)
SELECT t.name, t.icon, t.color, t.sort_order, TRUE FROM top t
WHERE NOT EXISTS (SELECT 1 FROM categories c WHERE c.is_default AND c.parent_id IS NULL AND c.name = t.name);

WITH sub(parent, name, icon, sort_order) AS (
    VALUES ('Income', 'Salary', 'briefcase', 1), ('Income', 'Interest', 'percent', 2),
           ('Income', 'Dividends', 'chart', 3), ('Income', 'Refunds & Reimbursements', 'undo', 4),
           ('Housing', 'Rent', 'key', 1), ('Housing', 'Mortgage', 'bank', 2),
           ('Housing', 'Home Maintenance', 'tools', 3), ('Housing', 'Home Insurance', 'shield', 4),
           ('Transportation', 'Fuel', 'gas', 1), ('Transportation', 'Public Transit', 'bus', 2),
           ('Transportation', 'Parking', 'parking', 3), ('Transportation', 'Ride Share', 'taxi', 4),
           ('Transportation', 'Car Maintenance', 'wrench', 5),
           ('Food & Dining', 'Groceries', 'cart', 1), ('Food & Dining', 'Restaurants', 'utensils', 2),
           ('Food & Dining', 'Coffee Shops', 'coffee', 3), ('Food & Dining', 'Fast Food', 'burger', 4),
           ('Shopping', 'Clothing', 'shirt', 1), ('Shopping', 'Electronics', 'laptop', 2),
           ('Shopping', 'Online Shopping', 'globe', 3),
           ('Utilities', 'Electricity', 'bolt', 1), ('Utilities', 'Water', 'droplet', 2),
           ('Utilities', 'Internet', 'wifi', 3), ('Utilities', 'Phone', 'phone', 4),
           ('Health', 'Pharmacy', 'pill', 1), ('Health', 'Doctor', 'stethoscope', 2),
           ('Health', 'Fitness', 'dumbbell', 3), ('Health', 'Health Insurance', 'shield', 4),
           ('Entertainment', 'Streaming', 'tv', 1), ('Entertainment', 'Events', 'ticket', 2),
           ('Entertainment', 'Games', 'gamepad', 3),
           ('Travel', 'Flights', 'plane', 1), ('Travel', 'Hotels', 'bed', 2),
           ('Fees', 'Bank Fees', 'bank', 1), ('Fees', 'Interest Charges', 'percent', 2)
)
INSERT INTO categories (name, icon, parent_id, sort_order, is_default)
SELECT s.name, s.icon, p.id, s.sort_order, TRUE
  FROM sub s JOIN categories p ON p.is_default AND p.parent_id IS NULL AND p.name = s.parent
WHERE NOT EXISTS (SELECT 1 FROM categories c WHERE c.is_default AND c.parent_id = p.id AND c.name = s.name);
