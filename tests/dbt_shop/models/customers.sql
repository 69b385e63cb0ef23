select 'C1' as id, 'Ann' as name, 'ann@example.com' as email
union all
select 'C2', 'Bo', 'bo@example.com'
