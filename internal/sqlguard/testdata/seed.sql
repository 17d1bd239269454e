SELECT * FROM invalid_table
SELECT * FROM orders LIMIT 5
SELECT * FROM users LIMIT 5
SELECT CASE WHEN age < 25 THEN '18-24' WHEN age < 35 THEN '25-34' WHEN age < 45 THEN '35-44' WHEN age < 55 THEN '45-54' ELSE '55+' END as age_group, COUNT(*) as count FROM users GROUP BY age_group
SELECT COUNT(*) FROM events
SELECT COUNT(*) FROM users
SELECT COUNT(*) FROM users WHERE last_active_date >= CURRENT_DATE - INTERVAL '30 days'
SELECT COUNT(*) as user_count FROM users
SELECT age, COUNT(*) FROM users GROUP BY age
SELECT age_group, COUNT(*) FROM users GROUP BY age_group
SELECT app_name, SUM(usage_minutes) FROM app_usage GROUP BY app_name ORDER BY SUM(usage_minutes) DESC LIMIT 10
SELECT city, COUNT(*) FROM users GROUP BY city ORDER BY COUNT(*) DESC LIMIT 10
SELECT device_type, COUNT(*) FROM users GROUP BY device_type
SELECT gender, COUNT(*) FROM users GROUP BY gender
SELECT gender, COUNT(*) as count FROM users GROUP BY gender
SELECT nccs, COUNT(*) FROM users GROUP BY nccs
SELECT platform, COUNT(*) FROM users GROUP BY platform
SELECT spend_quartile, AVG(total_spend) FROM users GROUP BY spend_quartile
SELECT subscription_type, COUNT(*) FROM users GROUP BY subscription_type
