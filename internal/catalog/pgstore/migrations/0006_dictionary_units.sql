-- The unit of a column's values (₹, INR, min), from the data dictionary:
-- answers show money with its currency. '' means no unit.
ALTER TABLE mcpa.descriptions ADD COLUMN unit text NOT NULL DEFAULT '';
