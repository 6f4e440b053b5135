"""What goes over HTTP: pydantic v2 models, read from the ORM objects with ``from_attributes``."""

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class AuthorCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class AuthorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class BookCreate(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    author_id: int
    price_cents: int = Field(ge=0)
    stock: int = Field(default=0, ge=0)


class BookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    author_id: int
    price_cents: int
    stock: int


class OrderCreate(BaseModel):
    book_id: int
    quantity: int = Field(ge=1)


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    book_id: int
    quantity: int
    total_cents: int


class CustomerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: SecretStr = Field(min_length=8, max_length=128)


class Credentials(BaseModel):
    """What a login sends; no length rules, which would tell what a password cannot be."""

    name: str = Field(max_length=100)
    password: SecretStr = Field(max_length=128)


class CustomerRead(BaseModel):
    """A customer as the API shows it: never the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class Text(BaseModel):
    text: str = Field(max_length=2_000_000)


class ReadingStats(BaseModel):
    words: int
    distinct_words: int
    top_words: list[str]
    reading_minutes: float
